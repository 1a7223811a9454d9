//! Frames through the `image` crate: Radiance HDR (linear), PNG 8/16 bit and TIFF (integer TIFF
//! is display-encoded sRGB, float TIFF linear).

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use super::{Encoding, FileFormat, Frame, FrameError};
use crate::io::limits::{contain_panics, open_image, DecodeLimits};
use crate::io::transfer::{linear_to_srgb, srgb_to_linear};

pub(super) fn read_with_image(path: &Path, format: FileFormat, limits: &DecodeLimits) -> Result<Frame, FrameError> {
    let name = match format {
        FileFormat::Hdr => "Radiance HDR",
        FileFormat::Png => "PNG",
        _ => "TIFF",
    };
    let reader = open_image(path, limits).map_err(|e| FrameError::probe(path, name, e))?;
    let img = contain_panics(|| reader.decode())
        .map_err(|e| FrameError::probe(path, name, e))?
        .map_err(|e| FrameError::corrupt(path, name, e))?;
    use image::DynamicImage as D;
    let float = matches!(img, D::ImageRgb32F(_) | D::ImageRgba32F(_));
    let wide = !matches!(img, D::ImageLuma8(_) | D::ImageLumaA8(_) | D::ImageRgb8(_) | D::ImageRgba8(_));
    let has_alpha = img.color().has_alpha();
    let (width, height) = (img.width() as usize, img.height() as usize);
    let rgba = img.into_rgba32f();
    let mut color = Vec::with_capacity(width * height * 3);
    let mut alpha = Vec::with_capacity(width * height);
    for p in rgba.pixels() {
        color.extend_from_slice(&p.0[..3]);
        alpha.push(p.0[3]);
    }
    let encoding = if float { Encoding::Linear } else { Encoding::Srgb };
    let mut frame = Frame::new_rgb(width, height, color, encoding, format);
    frame.wide = wide;
    frame.alpha = has_alpha.then_some(alpha);
    Ok(frame)
}

pub(super) fn write_with_image(frame: &Frame, path: &Path, format: FileFormat) -> io::Result<()> {
    let (w, h) = (frame.width as u32, frame.height as u32);
    let alpha = frame.alpha.as_ref();
    // PNG and integer TIFF hold display-encoded values; float formats hold linear ones.
    let target_srgb = format == FileFormat::Png || (format == FileFormat::Tiff && frame.encoding == Encoding::Srgb);
    let encode = |v: f32| match (frame.encoding, target_srgb) {
        (Encoding::Linear, true) => linear_to_srgb(v),
        (Encoding::Srgb, false) => srgb_to_linear(v),
        _ => v,
    };
    let px = |i: usize, c: usize| -> f32 {
        if c < 3 {
            encode(frame.color[i * 3 + c])
        } else {
            alpha.map_or(1.0, |a| a[i])
        }
    };
    let channels = if alpha.is_some() { 4 } else { 3 };
    let n = frame.pixels();
    let (img, fmt): (image::DynamicImage, image::ImageFormat) = match format {
        FileFormat::Hdr => {
            let data: Vec<f32> = (0..n).flat_map(|i| (0..3).map(move |c| px(i, c))).collect();
            (image::Rgb32FImage::from_raw(w, h, data).ok_or_else(bad_size)?.into(), image::ImageFormat::Hdr)
        }
        FileFormat::Tiff if frame.encoding == Encoding::Linear => {
            let data: Vec<f32> = (0..n).flat_map(|i| (0..3).map(move |c| px(i, c))).collect();
            (image::Rgb32FImage::from_raw(w, h, data).ok_or_else(bad_size)?.into(), image::ImageFormat::Tiff)
        }
        _ => {
            let fmt = if format == FileFormat::Png { image::ImageFormat::Png } else { image::ImageFormat::Tiff };
            let clamp = |v: f32| v.clamp(0.0, 1.0);
            if frame.wide {
                let data: Vec<u16> = (0..n)
                    .flat_map(|i| (0..channels).map(move |c| (clamp(px(i, c)) * 65535.0).round() as u16))
                    .collect();
                let img: image::DynamicImage = if channels == 4 {
                    image::ImageBuffer::<image::Rgba<u16>, _>::from_raw(w, h, data).ok_or_else(bad_size)?.into()
                } else {
                    image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(w, h, data).ok_or_else(bad_size)?.into()
                };
                (img, fmt)
            } else {
                let data: Vec<u8> =
                    (0..n).flat_map(|i| (0..channels).map(move |c| (clamp(px(i, c)) * 255.0).round() as u8)).collect();
                let img: image::DynamicImage = if channels == 4 {
                    image::RgbaImage::from_raw(w, h, data).ok_or_else(bad_size)?.into()
                } else {
                    image::RgbImage::from_raw(w, h, data).ok_or_else(bad_size)?.into()
                };
                (img, fmt)
            }
        }
    };
    let mut file = io::BufWriter::new(fs::File::create(path)?);
    img.write_to(&mut file, fmt).map_err(io::Error::other)?;
    file.flush()
}

fn bad_size() -> io::Error {
    io::Error::other("pixel buffer does not match the frame size")
}

#[cfg(test)]
mod tests {
    use super::super::{read_frame, write_frame_atomic};
    use super::*;
    use crate::io::limits::DecodeLimits;

    #[test]
    fn png_is_srgb_and_16_bit_survives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let mut f = Frame::new_rgb(3, 2, vec![0.5; 18], Encoding::Srgb, FileFormat::Png);
        f.wide = true;
        write_frame_atomic(&f, &path).unwrap();
        let g = read_frame(&path, &DecodeLimits::default()).unwrap();
        assert_eq!(g.encoding, Encoding::Srgb);
        assert!(g.wide);
        assert!((g.color[0] - 0.5).abs() < 1e-4);
    }
}

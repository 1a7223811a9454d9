//! [`run`]: the one way every model is run. Lock the shared session, hand it `f32` tensors, take
//! its outputs; [`Outputs::f32`] then reads an output with its shape checked. Every failure is an
//! [`InferenceError`] that names the model and keeps ONNX Runtime's own error as its source.

use ort::session::SessionInputValue;
use ort::value::{DynValue, TensorRef};

use super::SharedSession;

/// A failed inference, naming the model.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    #[error("model `{model}`: {stage} failed")]
    Runtime {
        model: String,
        /// What was being done: `input 1`, `the run`, `output 0`.
        stage: String,
        #[source]
        source: ort::Error,
    },
    #[error("model `{model}`: output {index} has shape {got:?}, expected {expected:?}")]
    Shape { model: String, index: usize, got: Vec<i64>, expected: Vec<i64> },
    #[error("model `{model}`: it gave {got} outputs, but output {index} was asked for")]
    MissingOutput { model: String, index: usize, got: usize },
}

/// An `f32` tensor input: its shape and its data, in row-major order.
pub struct Input<'a> {
    pub shape: Vec<usize>,
    pub data: &'a [f32],
}

impl<'a> Input<'a> {
    pub fn new(shape: impl Into<Vec<usize>>, data: &'a [f32]) -> Input<'a> {
        Input { shape: shape.into(), data }
    }
}

/// What one run gave, in the model's output order.
pub struct Outputs {
    model: String,
    values: Vec<DynValue>,
}

impl Outputs {
    /// Output `index` as `f32` data whose shape is `expected` (a `-1` there matches any size).
    pub fn f32(&self, index: usize, expected: &[i64]) -> Result<&[f32], InferenceError> {
        let (shape, data) = self.f32_any(index)?;
        let fits = shape.len() == expected.len() && shape.iter().zip(expected).all(|(g, e)| *e == -1 || g == e);
        if !fits {
            return Err(InferenceError::Shape {
                model: self.model.clone(),
                index,
                got: shape,
                expected: expected.to_vec(),
            });
        }
        Ok(data)
    }

    /// Output `index` as `f32` data with whatever shape it has.
    pub fn f32_any(&self, index: usize) -> Result<(Vec<i64>, &[f32]), InferenceError> {
        let value = self.values.get(index).ok_or_else(|| InferenceError::MissingOutput {
            model: self.model.clone(),
            index,
            got: self.values.len(),
        })?;
        let (shape, data) = value.try_extract_tensor::<f32>().map_err(|source| InferenceError::Runtime {
            model: self.model.clone(),
            stage: format!("reading output {index} as f32"),
            source,
        })?;
        Ok((shape.to_vec(), data))
    }
}

/// Runs `session` (the model named `model`, for errors) on `inputs`.
pub fn run(session: &SharedSession, model: &str, inputs: &[Input<'_>]) -> Result<Outputs, InferenceError> {
    let failed =
        |stage: String| move |source: ort::Error| InferenceError::Runtime { model: model.into(), stage, source };
    let values = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            TensorRef::from_array_view((input.shape.clone(), input.data))
                .map(SessionInputValue::from)
                .map_err(failed(format!("making input {i} of shape {:?}", input.shape)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut session = session.lock().unwrap_or_else(|p| p.into_inner());
    let outputs = session.run(&values[..]).map_err(failed("the run".into()))?;
    Ok(Outputs { model: model.into(), values: outputs.into_iter().map(|(_, v)| v).collect() })
}

-- Headless Ardour session (ardour7-lua, "None (Dummy)" backend): one MIDI track with the Latent
-- Groove VST3, humanize timing 0 so hits sit on the grid, 4 bars at 120 BPM exported to WAV.
-- Driven by plugins/groove/tests/ardour.rs, which passes paths in the environment.
local session_dir = assert(os.getenv("LG_SESSION_DIR"))
local export_dir = assert(os.getenv("LG_EXPORT_DIR"))
local rate = 48000
local bars = 4
local length = bars * 4 * 60 / 120 * rate

local backend = AudioEngine:set_backend("None (Dummy)", "", "")
assert(backend, "no dummy backend")
local s = create_session(session_dir, "groove", rate)
assert(s, "could not create a session")

local pi = ARDOUR.LuaAPI.new_plugin_info("Latent Groove", ARDOUR.PluginType.VST3)
assert(not pi:isnil(), "Latent Groove (VST3) not found by Ardour's plugin scan")
local tracks = s:new_midi_track(ARDOUR.ChanCount(ARDOUR.DataType("midi"), 1),
  ARDOUR.ChanCount(ARDOUR.DataType("audio"), 2), true, pi, nil, nil, 1, "Groove",
  ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true, true)
assert(tracks:size() == 1, "no track")
local track = tracks:front()
local proc = track:nth_plugin(0)
assert(not proc:isnil(), "plugin not on the track")
local plugin = proc:to_insert():plugin(0)

-- Find parameters by name; set humanize timing and swing to 0 (hits on the grid).
local set = {}
for i = 0, plugin:parameter_count() - 1 do
  local label = plugin:parameter_label(i)
  if label == "Humanize timing" or label == "Swing" then
    ARDOUR.LuaAPI.set_processor_param(proc, i, 0.0)
    set[label] = true
  end
end
assert(set["Humanize timing"] and set["Swing"], "parameters not found")
print("plugin: " .. proc:name())

-- Let the plugin's worker load its models and decode while the engine runs (transport stopped).
ARDOUR.LuaAPI.usleep(3000000)

local e = s:simple_export()
e:set_name("groove")
e:set_folder(export_dir)
e:set_range(0, length)
assert(e:set_preset("75969a1c-3133-4694-864b-a1fa50e43348"), "no 'WAV @ session-rate' export preset")
assert(e:run_export(), "export failed")
print("exported")
close_session()
quit()

#!/usr/bin/env bash
# Virtual audio devices for the live-capture tests: a PulseAudio daemon with one null sink
# per call side, each sink's monitor exposed to ALSA (and so to PortAudio/sounddevice) as a
# named capture device. Playing a file into a sink (paplay --device=SINK) is then heard by
# Calmline on the matching input. Idempotent.
set -euo pipefail

pulseaudio --check 2>/dev/null || pulseaudio --daemonize=yes --exit-idle-time=-1 --log-target=stderr 2>/dev/null || true
for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl info >/dev/null

for sink in calmline_agent_line calmline_client_line; do
  pactl list short sinks | grep -q "	$sink	" ||
    pactl load-module module-null-sink "sink_name=$sink" "sink_properties=device.description=$sink" >/dev/null
done

# The agent's microphone as a desk has it: a real (non-monitor) capture source, the default
# input, fed by what is played into the agent's sink. Calmline opens it as "default", the
# client line as "Loopback: calmline_client_line" — no ALSA configuration involved.
pactl list short sources | grep -q "	calmline_mic	" ||
  pactl load-module module-remap-source source_name=calmline_mic \
    master=calmline_agent_line.monitor "source_properties=device.description=calmline_mic" >/dev/null
pactl set-default-source calmline_mic

asoundrc="$HOME/.asoundrc"
marker="# calmline virtual devices"
if ! grep -q "$marker" "$asoundrc" 2>/dev/null; then
  cat >> "$asoundrc" <<'CONF'
# calmline virtual devices
pcm.calmline_agent  { type pulse; device "calmline_agent_line.monitor";  hint { show on; description "Calmline agent mic (virtual)" } }
pcm.calmline_client { type pulse; device "calmline_client_line.monitor"; hint { show on; description "Calmline client line (virtual)" } }
# end calmline virtual devices
CONF
fi

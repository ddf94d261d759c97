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

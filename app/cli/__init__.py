"""The command line: `calmline <command>`; the window is `ui.launcher`."""

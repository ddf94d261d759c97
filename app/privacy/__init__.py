"""Personal data removed from what is stored and shown."""

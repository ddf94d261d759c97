"""The drafted ticket note: what the call was about, what was found and done, how it ended."""

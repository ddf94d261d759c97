"""The live call: sources → transcription → stages → listeners, and its offline twin."""

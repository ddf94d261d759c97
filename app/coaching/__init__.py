"""What the agent is told: the playbook, the coach's cues and flags, the client's mood."""

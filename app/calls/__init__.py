"""A call as plain data, and the documents made from it (ticket update, JSON, e-mail)."""

"""Progress notes and group notes: formats, required fields, signing, addenda, co-signature."""

"""What is stored: the models, sealing, references, locks, the queue's reads, drafts' lifetime."""

"""Evidence behind judgements: notes, links and files linked to items."""

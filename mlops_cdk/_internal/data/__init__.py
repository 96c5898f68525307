"""Package data: checked-in facts about AWS (each file names its source)."""

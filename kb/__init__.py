"""The knowledge base: Markdown answers, fuzzy search, hot reload (no Textual, no Rich)."""

"""The questionnaire itself, pure: the catalogue of items, their parsers and facts, forms, words."""

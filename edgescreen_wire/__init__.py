"""The wire contract between devices and the review station: topics, documents and their checks.

Both sides import this one package (the device to build and re-check what it sends, the station to
accept exactly that), so a schema or a check exists once. The vocabularies the documents use
(modalities, outcomes, eyes, body sites, skin-tone categories, quality verdicts, the disclaimer)
are read from the device modules that define them, never copied here.
"""

"""The nurse's touchscreen app: a local web app (Starlette, Jinja2 templates, vendored htmx).

The web layer holds no rules: screening, recording, sync, quality and readiness are the device's
own modules; pages only ask them and show the answer in the nurse's language.
"""

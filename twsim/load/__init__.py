"""The ab-style load mode: signed webhooks straight at an app."""

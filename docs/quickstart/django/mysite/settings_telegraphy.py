# At the end of mysite/settings.py: the app that defines the model, Telegraphy's app, and the
# secret shared with the gateway (run_telegraph reads it from these same settings).
INSTALLED_APPS += [
    "myapp",
    "telegraphy.contrib.django_telegraphy",
]
TELEGRAPHY = {
    "SECRET": "a-long-random-string-of-16-or-more-characters",
    "GATEWAY_URL": "http://127.0.0.1:9000",
}

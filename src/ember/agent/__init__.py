"""``ember-agent``: applies the software deployments of one server and reports back."""

# flambe.testing's fixtures: plugin_host gives each test a plugin host with only this plugin
pytest_plugins = ["flambe.testing.fixtures"]

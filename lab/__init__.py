"""The johann.monitor lab: simulated RESTCONF devices on loopback, over real TLS."""

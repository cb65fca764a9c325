"""AWS host interception for function environments: any SDK version reaches the emulators unchanged.

`ca` (per-user CA, leaf per host name), `hosts` (AWS host forms, signing service), `front` (HTTPS server
routing to the emulators), `errors` (not-emulated answers per protocol), `environment` (the variables a
function gets, per mode), `session` (one run's front and what the function used). `preload/` holds the
Python (`sitecustomize.py`) and Node.js (`aws_hosts.cjs`) code that runs first inside function processes.
See docs/aws-endpoints.md.
"""

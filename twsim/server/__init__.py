"""The gateway's HTTP face: Twilio's REST API and the /_twsim/ control plane (aiohttp)."""

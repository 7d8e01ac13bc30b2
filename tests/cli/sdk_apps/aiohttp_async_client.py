"""An aiohttp app on twilio-python's async client (AsyncTwilioHttpClient, twilio >= 8),
credentials from the environment. No twsim in sight."""

import os

from aiohttp import web
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse


async def sms(request):
    form = await request.post()
    http_client = AsyncTwilioHttpClient()
    client = Client(
        os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"], http_client=http_client
    )
    try:
        await client.messages.create_async(
            to="+12025550199", from_=form["To"], body="New text: " + form["Body"]
        )
    finally:
        await http_client.close()
    reply = MessagingResponse()
    reply.message("Thanks for your text!")
    return web.Response(text=str(reply), content_type="text/xml")


async def services(request):
    http_client = AsyncTwilioHttpClient()
    client = Client(http_client=http_client)
    try:
        await client.messaging.v1.services.list_async()
    except Exception as exc:
        return web.Response(text=str(exc), status=502)
    finally:
        await http_client.close()
    return web.Response(text="listed")


app = web.Application()
app.router.add_post("/sms", sms)
app.router.add_get("/services", services)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]))

// An Express app as Twilio's samples write it: client built when the module loads,
// credentials from the environment. No twsim in sight.
const express = require('express');
const twilio = require('twilio');

const client = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
const app = express();
app.use(express.urlencoded({ extended: false }));

app.post('/sms', async (req, res) => {
  await client.messages.create({ to: '+12025550199', from: req.body.To, body: `New text: ${req.body.Body}` });
  const reply = new twilio.twiml.MessagingResponse();
  reply.message('Thanks for your text!');
  res.type('text/xml').send(reply.toString());
});

app.get('/services', async (req, res) => {
  try {
    await client.messaging.v1.services.list();
    res.send('listed');
  } catch (err) {
    res.status(502).send(String(err.message));
  }
});

app.listen(Number(process.env.PORT), '127.0.0.1');

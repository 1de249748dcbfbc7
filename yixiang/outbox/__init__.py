"""The outbox: how every outbound message leaves (campaign messages, the morning digest, the
administrator's webhooks). A floor below aftercare and reports, which both use it and nothing else
of each other:

* ``delivery`` — the one delivery state machine. A row is claimed with a conditional UPDATE
  (pending → sending, the healthchecks idiom), then finished from "sending" only, so a crash or a
  second worker never sends it twice;
* ``senders`` — the one e-mail sender, the one WeCom/DingTalk robot sender and the one signed
  webhook POST (``send_webhook``; its rows and retries live in ``accounts.webhooks``), with the
  failure vocabulary (temporary / permanent / in doubt) the state machine acts on;
* ``rules`` — the robots' documented formats, the webhook signature and retry schedule, as plain
  functions.
"""

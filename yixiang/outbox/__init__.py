"""The outbox: how every outbound message leaves (campaign messages, the morning digest; webhooks
later). A floor below aftercare and reports, which both use it and nothing else of each other:

* ``delivery`` — the one delivery state machine. A row is claimed with a conditional UPDATE
  (pending → sending, the healthchecks idiom), then finished from "sending" only, so a crash or a
  second worker never sends it twice;
* ``senders`` — the one e-mail sender and the one WeCom/DingTalk robot sender, with the failure
  vocabulary (temporary / permanent / in doubt) the state machine acts on;
* ``rules`` — the robots' documented formats, as plain functions.
"""

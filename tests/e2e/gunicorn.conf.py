"""gunicorn settings of the httpbin upstream (scripts/e2e.sh passes --bind and the log paths).

* sync workers: one request per connection (`Connection: close`), so every upstream
  request is its own TCP connection and the cancellation test can watch it in
  /proc/net/tcp; 8 of them, so the /delay calls a test abandons (a sync worker sleeps
  them out) never starve the others.
* header_map = "dangerous": gunicorn drops header names with underscores by default;
  the petstore example's `api_key` header (parameter and apiKey scheme) must arrive.
* What the upstream received is written by `pre_request` below to $HTTPBIN_REQUEST_LOG,
  one JSON array per request: method, raw request target (path and query exactly as
  sent), and the Authorization, Cookie and api_key headers (null when absent). It is
  written before httpbin handles the request, so by the time a tool result reaches
  the client every request the call caused is in the file. (gunicorn's access log
  is written after the response: too late for that.) The access log is kept for people.
"""

import json
import os

workers = 8
worker_class = "sync"
preload_app = True
timeout = 30
graceful_timeout = 2
keepalive = 0
header_map = "dangerous"
control_socket_disable = True
access_log_format = '%(r)s %(s)s %(b)s "%(a)s" %(M)sms'


def pre_request(worker, req):
    path = os.environ.get("HTTPBIN_REQUEST_LOG")
    if not path:
        return
    headers: dict[str, str] = {}
    for name, value in req.headers:
        headers.setdefault(name.upper(), value)
    record = [req.method, req.uri, headers.get("AUTHORIZATION"), headers.get("COOKIE"), headers.get("API_KEY")]
    line = (json.dumps(record) + "\n").encode()
    # One write on an O_APPEND descriptor: lines of concurrent workers never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)

"""gunicorn settings of the httpbin upstream (scripts/e2e.sh passes --bind and the log paths).

* sync workers: one request per connection (`Connection: close`), so every upstream
  request is its own TCP connection and the cancellation test can watch it in
  /proc/net/tcp; 8 of them, so the /delay calls a test abandons (a sync worker sleeps
  them out) never starve the others.
* header_map = "dangerous": gunicorn drops header names with underscores by default;
  the petstore example's `api_key` header (parameter and apiKey scheme) must arrive.
* The access log is what the upstream received, one tab-separated line per request:
  raw request line (method, path and query exactly as sent), status, and the
  Authorization, Cookie and api_key request headers ("-" when absent). gunicorn
  escapes `"` in values as `\\"`.
"""

workers = 8
worker_class = "sync"
preload_app = True
timeout = 30
graceful_timeout = 2
keepalive = 0
header_map = "dangerous"
control_socket_disable = True
access_log_format = "%(r)s\t%(s)s\t%({authorization}i)s\t%({cookie}i)s\t%({api_key}i)s"

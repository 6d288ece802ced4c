# gunicorn reads ./gunicorn.conf.py by default: `make serve` and the deploy command in docs/operations.md run from
# the checkout. Its own log handlers get the PHI filter (openiop/core/logfilter.py), and the access log, if turned
# on with --access-logfile, writes the path without its query string (search terms were names and birth dates).
logger_class = "openiop.core.gunicorn_logging.Logger"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "-" "%(a)s" %(M)sms'

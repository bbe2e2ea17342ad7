#!/bin/sh
# The image's HEALTHCHECK: GET /ready on the address, port and scheme the
# daemon itself was given (BIND_ADDRESS, PORT, TLS_CERT_FILE), so that
# changing them in the container's environment needs no change here.
# Exits 0 when ready. (PORT=0, any free port, cannot be checked: use a port.)
port=${PORT:-8081}
host=${BIND_ADDRESS:-127.0.0.1}
case "$host" in
0.0.0.0) host=127.0.0.1 ;;
::) host='[::1]' ;;
*:*) host="[$host]" ;;
esac
if [ -n "${TLS_CERT_FILE:-}" ]; then
	# the certificate names the service, not this loopback address: the
	# check is the daemon's answer, not the certificate
	exec curl -fsS --max-time 4 --insecure -o /dev/null "https://$host:$port/ready"
fi
exec curl -fsS --max-time 4 -o /dev/null "http://$host:$port/ready"

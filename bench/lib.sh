# bench/lib.sh - what the benchmarks share: the nginx they load and its bodies.

# bench_nginx WORK WORKERS H1_PORT H2_PORT: the bodies WORK/www/1k and 64k
# (random, made once) and WORK/nginx.conf: HTTP/1.1 on H1_PORT and h2c on
# H2_PORT, `sendfile off` so that bodies pass through writev like an
# application's would, no access log, unbounded keep-alive.
bench_nginx() {
	local work=$1 workers=$2 h1=$3 h2=$4
	mkdir -p "$work/www" "$work/logs" "$work/tmp"
	[ -s "$work/www/1k" ] || head -c 1024 /dev/urandom >"$work/www/1k"
	[ -s "$work/www/64k" ] || head -c 65536 /dev/urandom >"$work/www/64k"
	cat >"$work/nginx.conf" <<CONF
user root;
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile off;
	tcp_nodelay on;
	keepalive_requests 100000000;
	default_type application/octet-stream;
	client_body_temp_path $work/tmp/body;
	proxy_temp_path $work/tmp/proxy;
	fastcgi_temp_path $work/tmp/fastcgi;
	uwsgi_temp_path $work/tmp/uwsgi;
	scgi_temp_path $work/tmp/scgi;
	server { listen 127.0.0.1:$h1; root $work/www; }
	server { listen 127.0.0.1:$h2 http2; root $work/www; }
}
CONF
}

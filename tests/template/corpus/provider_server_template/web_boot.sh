#!/bin/sh
set -eu
cat > /etc/nginx/conf.d/upstream.conf <<CONF
upstream app { server __app_address__:8080; }
CONF
systemctl reload nginx

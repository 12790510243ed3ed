# Stand-in for redis:7.2-alpine: Debian's redis-server (7.0), /data owned by the redis user, and
# like the official image's entrypoint, `redis-server ...` runs with protected mode off (the
# compose network, not loopback, reaches it).
FROM oncall-copilot-standin/tools:bookworm
RUN mkdir -p /data && chown redis:redis /data \
 && printf '#!/bin/sh\nif [ "$1" = redis-server ]; then shift; exec redis-server "$@" --protected-mode no; fi\nexec "$@"\n' \
      > /usr/local/bin/docker-entrypoint.sh && chmod 755 /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]

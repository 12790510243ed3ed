# Stand-in for prom/prometheus: Debian's prometheus (2.42); same entrypoint and data directory.
FROM oncall-copilot-standin/tools:bookworm
RUN mkdir -p /prometheus && chown nobody:nogroup /prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]

# Stand-in for prom/alertmanager: Debian's prometheus-alertmanager (0.25); same entrypoint.
FROM oncall-copilot-standin/tools:bookworm
RUN mkdir -p /alertmanager && chown nobody:nogroup /alertmanager
WORKDIR /alertmanager
EXPOSE 9093
ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]

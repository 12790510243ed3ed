# Stand-in for axllent/mailpit: SMTP on 1025 and the part of Mailpit's HTTP API on 8025 that the
# compose test reads (mailpit.py, Debian's python3-aiosmtpd); `/mailpit readyz` as in Mailpit.
FROM oncall-copilot-standin/tools:bookworm
COPY mailpit.py /mailpit
EXPOSE 1025 8025
ENTRYPOINT ["/mailpit"]

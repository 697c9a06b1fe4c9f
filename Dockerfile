# wsbridge in a small static image.
#   docker build -t wsbridge .
#   docker run --rm -p 127.0.0.1:8080:8080 --device /dev/ttyUSB0 --group-add dialout \
#     wsbridge serve --port /dev/ttyUSB0 --listen 0.0.0.0:8080 --token "$WSBRIDGE_TOKEN"
# The image runs as the non-root user wsbridge (uid 10001) in group dialout
# (gid 20, Debian's), so it can open a device passed with --device.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN VERSION=$VERSION COMMIT=$COMMIT scripts/build /out/wsbridge
RUN echo 'wsbridge:x:10001:20:wsbridge:/:/sbin/nologin' > /out/passwd && \
    echo 'dialout:x:20:wsbridge' > /out/group

FROM scratch
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/wsbridge /wsbridge
USER 10001:20
EXPOSE 8080
# Inside the container serve must listen beyond loopback for -p to reach it;
# publish the port on the host's loopback (-p 127.0.0.1:8080:8080) or set a token.
ENV WSBRIDGE_LISTEN=0.0.0.0:8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/wsbridge", "health", "--url", "http://127.0.0.1:8080/healthz", "--require-device"]
ENTRYPOINT ["/wsbridge"]
CMD ["serve", "--sim"]

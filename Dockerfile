# One image for `multidb serve`, `multidb migrate` and `multidb seed`: a static, cgo-free binary
# (SQLite is pure Go) on a distroless base, running as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/multidb ./cmd/multidb

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/multidb /multidb
ENV ENV=production PORT=8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/multidb"]
CMD ["serve"]

// Package deploy_test checks the deployment files at the root of the repository
// (docker-compose.yml, .env.example) without a Docker engine: the compose file is loaded and
// validated by compose-go, the library the docker compose CLI itself is built on.
package deploy_test

"""Deploy files generated from the service registry: the NATS users and permissions, and the
per-service blocks of docker-compose.yml and deploy/k8s."""

"""Where an open loop's slow requests come from: every event-loop step and garbage collection longer than a
threshold, in every process of a bench run, on the clock all processes share (`make bench -- --stalls DIR`,
then `python -m scripts.stallwatch DIR`). docs/adr/0042."""

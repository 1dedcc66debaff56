"""The agents' workbench: a web page where the team works every case (served by make serve)."""

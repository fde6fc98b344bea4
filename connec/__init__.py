# The version /connec/version reports; connectors compare it to decide what to use.
VERSION = "2.0.0"

"""The core at the bottom of the layers: settings (where things live), the warehouse
(connections and atomic builds), the dbt runner, the NHANES file catalog, the error root and
the studies' vocabulary. It imports nothing of the project above it."""

-- Temporal keeps its own two databases beside the platform's.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;

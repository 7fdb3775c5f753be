// Remove the whole service graph (Community has no CREATE DATABASE to start over).
MATCH (n:Node)
DETACH DELETE n

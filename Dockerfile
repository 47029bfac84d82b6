# The kgrec image for docker-compose's api and refresher services (Neo4j runs in its own container).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 KGREC_HOME=/var/lib/kgrec
COPY pyproject.toml constraints.txt README.md ./
COPY kgrec kgrec
COPY graph graph
COPY ingest ingest
COPY embeddings embeddings
COPY ranking ranking
COPY explain explain
COPY serve serve
COPY refresh refresh
COPY api api
COPY cypher cypher
COPY catalogues catalogues
COPY privacy privacy
# a regular (not editable) install: the Cypher files, schemas and pom are package data; state in KGREC_HOME
RUN pip install --no-cache-dir --constraint constraints.txt .
VOLUME ["/var/lib/kgrec"]
EXPOSE 8000
CMD ["kgrec", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM python:3.11-slim
WORKDIR /srv/liutong
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:///./var/shop.db
# A Chinese font from Debian for the PDFs the shop renders (invoices, packing slips); nothing is downloaded at run time.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --create-home shop && mkdir -p var && chown shop var
USER shop
EXPOSE 8000
# Migrations are idempotent; apply them, then serve against DATABASE_URL.
CMD ["sh", "-c", "shop migrate && exec shop serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]

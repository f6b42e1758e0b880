"""Server-rendered storefront, merchant console and leader page; they call the same services as the API."""

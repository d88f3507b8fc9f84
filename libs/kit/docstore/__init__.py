from libs.kit.docstore.port import DocumentStore, Page, open_store

__all__ = ["DocumentStore", "Page", "open_store"]

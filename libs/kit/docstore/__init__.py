from libs.kit.docstore.port import DocumentStore, open_store

__all__ = ["DocumentStore", "open_store"]

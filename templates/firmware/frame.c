/* The framed protocol over the console UART (frame.h). */
#include "frame.h"
#include "uart.h"

#define SYNC0 0x4Fu /* 'O' */
#define SYNC1 0x51u /* 'Q' */

static uint16_t crc16(uint16_t crc, uint8_t byte) {
    int bit;
    crc ^= (uint16_t)(byte << 8);
    for (bit = 0; bit < 8; bit++) {
        crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

static uint8_t get_crc(uint16_t *crc) {
    uint8_t byte = uart_get();
    *crc = crc16(*crc, byte);
    return byte;
}

enum frame_status frame_receive(struct frame *frame, uint8_t *payload, uint16_t capacity) {
    uint16_t crc = 0xFFFFu, i, sent;
    uint8_t byte = uart_get();
    for (;;) {
        while (byte != SYNC0) {
            byte = uart_get();
        }
        byte = uart_get();
        if (byte == SYNC1) {
            break;
        }
    }
    frame->kind = get_crc(&crc);
    frame->seq = get_crc(&crc);
    frame->seq |= (uint16_t)(get_crc(&crc) << 8);
    frame->len = get_crc(&crc);
    frame->len |= (uint16_t)(get_crc(&crc) << 8);
    if (frame->len > capacity) {
        return FRAME_TOO_LONG;
    }
    for (i = 0; i < frame->len; i++) {
        payload[i] = get_crc(&crc);
    }
    sent = uart_get();
    sent |= (uint16_t)(uart_get() << 8);
    return sent == crc ? FRAME_OK : FRAME_BAD_CRC;
}

static void put_crc(uint16_t *crc, uint8_t byte) {
    *crc = crc16(*crc, byte);
    uart_write(byte);
}

void frame_send2(uint8_t kind, uint16_t seq, const uint8_t *head, uint16_t head_len, const uint8_t *body,
                 uint16_t body_len) {
    uint16_t crc = 0xFFFFu, len = (uint16_t)(head_len + body_len), i;
    uart_write(SYNC0);
    uart_write(SYNC1);
    put_crc(&crc, kind);
    put_crc(&crc, (uint8_t)seq);
    put_crc(&crc, (uint8_t)(seq >> 8));
    put_crc(&crc, (uint8_t)len);
    put_crc(&crc, (uint8_t)(len >> 8));
    for (i = 0; i < head_len; i++) {
        put_crc(&crc, head[i]);
    }
    for (i = 0; i < body_len; i++) {
        put_crc(&crc, body[i]);
    }
    uart_write((uint8_t)crc);
    uart_write((uint8_t)(crc >> 8));
}

void frame_send(uint8_t kind, uint16_t seq, const uint8_t *payload, uint16_t len) {
    frame_send2(kind, seq, payload, len, payload, 0u);
}
